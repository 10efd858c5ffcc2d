// Vite features the rules test uses to read RULES.md and the spec files without `node:fs`.
declare module '*.md?raw' {
  const content: string;
  export default content;
}

interface ImportMeta {
  glob(pattern: string, options: { query: '?raw'; import: 'default'; eager: true }): Record<string, string>;
}
