/**
 * Just enough XML for EC2 responses: a value tree where objects are elements, arrays are
 * EC2 lists (`<item>` members) and undefined members are left out.
 */
export type XmlValue = string | number | boolean | undefined | readonly XmlValue[] | { readonly [name: string]: XmlValue };

export const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&${({ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' } as Record<string, string>)[c]};`);
}

function body(v: XmlValue): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return escapeXml(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return (v as readonly XmlValue[]).map((x) => element('item', x)).join('');
  return Object.entries(v as Record<string, XmlValue>)
    .map(([k, x]) => element(k, x))
    .join('');
}

export function element(name: string, v: XmlValue): string {
  if (v === undefined) return '';
  return `<${name}>${body(v)}</${name}>`;
}

/** `<ActionResponse xmlns=...><requestId>..</requestId>...</ActionResponse>` */
export function ec2Response(action: string, requestId: string, members: Readonly<Record<string, XmlValue>>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_XMLNS}">${element('requestId', requestId)}${body(members)}</${action}Response>`;
}

/** EC2's error document. */
export function ec2ErrorResponse(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>${element('Code', code)}${element('Message', message)}</Error></Errors>${element('RequestID', requestId)}</Response>`;
}
