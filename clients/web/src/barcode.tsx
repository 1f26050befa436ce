// A card's EAN-13 barcode as SVG bars (what a till scans from the member's screen). Drawn with
// SVG attributes only: no inline styles, so the portal's Content-Security-Policy holds.
const L = ["0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011", "0110111", "0001011"];
const G = ["0100111", "0110011", "0011011", "0100001", "0011101", "0111001", "0000101", "0010001", "0001001", "0010111"];
const R = ["1110010", "1100110", "1101100", "1000010", "1011100", "1001110", "1010000", "1000100", "1001000", "1110100"];
// Which of L or G encodes each left digit, chosen by the first (unprinted-as-bars) digit.
const PARITY = ["LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL"];

/** The 95 modules of an EAN-13 symbol ("1" a bar), or null when `digits` is not 13 digits. */
export function ean13Modules(digits: string): string | null {
  if (!/^\d{13}$/.test(digits)) return null;
  const d = [...digits].map(Number);
  const left = d.slice(1, 7).map((digit, i) => (PARITY[d[0]][i] === "L" ? L : G)[digit]);
  const right = d.slice(7).map((digit) => R[digit]);
  return "101" + left.join("") + "01010" + right.join("") + "101";
}

const QUIET = 11; // modules of white space each side, as the standard asks

export function Barcode({ digits, label }: { digits: string; label: string }) {
  const modules = ean13Modules(digits);
  if (!modules) return null;
  const bars: { x: number; width: number }[] = [];
  for (let i = 0; i < modules.length; i++) {
    if (modules[i] !== "1") continue;
    const last = bars[bars.length - 1];
    if (last && last.x + last.width === i + QUIET) last.width++;
    else bars.push({ x: i + QUIET, width: 1 });
  }
  return (
    <figure className="barcode">
      <svg role="img" aria-label={label} viewBox={`0 0 ${modules.length + 2 * QUIET} 60`} width="234" height="120">
        <rect x="0" y="0" width={modules.length + 2 * QUIET} height="60" fill="#fff" />
        {bars.map((bar) => (
          <rect key={bar.x} x={bar.x} y="4" width={bar.width} height="52" fill="#000" />
        ))}
      </svg>
      <figcaption className="mono" aria-hidden="true">
        {digits[0]} {digits.slice(1, 7)} {digits.slice(7)}
      </figcaption>
    </figure>
  );
}
