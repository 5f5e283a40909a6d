import { defineConfig } from "vite";
import { gzipSync } from "node:zlib";

// Precompressed copies (*.gz) let rookery-web answer gzip without compressing per request.
function precompress() {
  return {
    name: "rookery-precompress",
    apply: "build" as const,
    // "post": after Vite's own generateBundle, which fills in the dynamic imports' preload lists
    // (`__VITE_PRELOAD__`); compressing earlier would serve the unfinished code.
    generateBundle: {
      order: "post" as const,
      handler(_options: unknown, bundle: Record<string, { type: string; code?: string; source?: string | Uint8Array }>) {
        for (const [fileName, item] of Object.entries(bundle)) {
          // index.html (half a kilobyte) stays as it is: the SPA fallback serves it plain.
          if (!/\.(js|css|svg|json|txt)$/.test(fileName)) continue;
          const data = item.type === "chunk" ? item.code ?? "" : item.source ?? "";
          const compressed = gzipSync(typeof data === "string" ? Buffer.from(data) : Buffer.from(data), { level: 9 });
          // @ts-ignore emitFile is on the plugin context
          this.emitFile({ type: "asset", fileName: fileName + ".gz", source: compressed });
        }
      },
    },
  };
}

export default defineConfig({
  // No @vitejs/plugin-react: esbuild compiles TSX itself, and one dependency fewer is worth more
  // than fast refresh.
  esbuild: { jsx: "automatic" },
  plugins: [precompress()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    // Inline assets would be data: URLs in CSS and scripts; the CSP allows data: only for images.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rollupOptions: {
      // react-router marks its modules "use client" for server components; meaningless here.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
  server: {
    proxy: { "/api": "http://localhost:9000" },
  },
});
