import { describe, expect, it } from 'vitest';
import { downloadName, exportRefusal } from './ContactAdmin';

describe("the contact panel's admin part", () => {
  it('names the download as the server did, or plainly when it said nothing', () => {
    expect(downloadName('attachment; filename="parley-demo-contact-2026-12-07.zip"')).toBe(
      'parley-demo-contact-2026-12-07.zip',
    );
    expect(downloadName(null)).toBe('parley-contact-export.zip');
  });

  it('says in words why the server refused an export', () => {
    expect(exportRefusal(403)).toMatch(/Only an admin/);
    expect(exportRefusal(404)).toMatch(/no data of this contact/);
    expect(exportRefusal(401)).toMatch(/Sign in again/);
    expect(exportRefusal(500)).toMatch(/Try again/);
  });
});
