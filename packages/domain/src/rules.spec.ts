import { describe, expect, it } from 'vitest';
import rules from '../RULES.md?raw';

const specs = import.meta.glob('./**/*.spec.ts', { query: '?raw', import: 'default', eager: true });
const ruleIds = [...rules.matchAll(/^- \*\*([A-Z]{2}\d+)\*\*/gm)].map((match) => match[1]);
const testedIds = new Set(
  Object.values(specs).flatMap((source) => [...source.matchAll(/\[([A-Z]{2}\d+)\]/g)].map((m) => m[1])),
);

describe('RULES.md', () => {
  it('lists each rule id once', () => {
    expect(ruleIds.length).toBeGreaterThan(0);
    expect(ruleIds.filter((id, i) => ruleIds.indexOf(id) !== i)).toEqual([]);
  });

  it('has a test carrying every rule id', () => {
    expect(ruleIds.filter((id) => !testedIds.has(id))).toEqual([]);
  });

  it('lists every rule id the tests carry', () => {
    expect([...testedIds].filter((id) => !ruleIds.includes(id))).toEqual([]);
  });
});
