import { PLATFORMS, PlatformIcon } from "../platforms";

export function PlatformPicker({ value, onChange }: { value: string; onChange: (id: string) => void }) {
  const groups = [...new Set(PLATFORMS.map((p) => p.group))];
  return (
    <div className="platform-picker" role="radiogroup" aria-label="Platform">
      {groups.map((group) => (
        <div key={group} className="platform-group">
          <h4>{group}</h4>
          <div className="platform-grid">
            {PLATFORMS.filter((p) => p.group === group).map((p) => (
              <button
                type="button"
                key={p.id}
                role="radio"
                aria-checked={value === p.id}
                className={`platform-tile${value === p.id ? " selected" : ""}`}
                data-platform={p.id}
                onClick={() => onChange(p.id)}
              >
                <PlatformIcon platform={p.id} />
                <span>{p.name}</span>
              </button>
            ))}
          </div>
        </div>
      ))}
    </div>
  );
}
