/**
 * The one reading of a request target that `netloom serve` acts on. The token check, the /api route
 * and the static-file lookup all see the same canonical path, made once, before any of them: so
 * `/%69ndex.html`, `//index.html` or `/assets/../index.html` are the page (and need the token), and
 * nothing decodes a second time after the check (which would turn `/%2569ndex.html` into the page).
 *
 * Canonical: percent-decoded once, empty and `.` segments dropped, `..` resolved (never above the
 * root, as RFC 3986 §5.2.4 and browsers do), always starting with "/", no trailing slash. Refused
 * (undefined): a target that is not a path (`*`, `http://…`), a bad escape or invalid UTF-8, NUL,
 * and a backslash or an encoded slash: those would be separators on some file systems but not in
 * the URL, so the same target could name two different things.
 */
export interface RequestTarget {
  /** canonical path: "/", "/index.html", "/assets/app.js" */
  path: string;
  /** the query, parsed */
  query: URLSearchParams;
}

export function parseRequestTarget(target: string | undefined): RequestTarget | undefined {
  if (target === undefined || !target.startsWith('/')) return undefined;
  const q = target.indexOf('?');
  // Stryker disable next-line EqualityOperator: q is never 0 (the target starts with "/")
  const rawPath = q >= 0 ? target.slice(0, q) : target;
  // Stryker disable next-line EqualityOperator: as above
  const rawQuery = q >= 0 ? target.slice(q + 1) : '';
  if (/%2f|%5c|%00/i.test(rawPath) || rawPath.includes('\\')) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return undefined; // a lone "%", "%zz", or bytes that are not UTF-8
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments: string[] = [];
  for (const s of decoded.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') segments.pop();
    else segments.push(s);
  }
  return { path: `/${segments.join('/')}`, query: new URLSearchParams(rawQuery) };
}
