// Escaping shared by the XML (JUnit) and HTML/SVG (matrix, ladder) writers.

// Characters XML 1.0 forbids outright (C0 controls except tab/LF/CR, lone surrogates, U+FFFE/F).
const FORBIDDEN_IN_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text for element content or a quoted attribute value; forbidden characters become U+FFFD. */
export function escapeXml(value: unknown): string {
  return String(value)
    .replace(FORBIDDEN_IN_XML, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** For attribute values that must keep their line breaks (parsers normalise raw ones to spaces). */
export function escapeXmlAttribute(value: unknown): string {
  return escapeXml(value).replace(/\r/g, '&#13;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}

/** HTML uses the same escaping; `&apos;` is valid in HTML5. */
export const escapeHtml = escapeXml;

/** Encodes a relative file path for an href, keeping the slashes. */
export function hrefFor(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
