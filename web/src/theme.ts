// "system" follows prefers-color-scheme; the toggle pins light or dark (kept in localStorage).
export type Theme = "system" | "light" | "dark";
const KEY = "rookery.theme";

export function loadTheme(): Theme {
  const stored = localStorage.getItem(KEY);
  return stored === "light" || stored === "dark" ? stored : "system";
}

export function applyTheme(theme: Theme) {
  if (theme === "system") {
    document.documentElement.removeAttribute("data-theme");
    localStorage.removeItem(KEY);
  } else {
    document.documentElement.setAttribute("data-theme", theme);
    localStorage.setItem(KEY, theme);
  }
}
