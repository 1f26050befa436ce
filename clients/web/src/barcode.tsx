// A card's EAN-13 barcode and a coupon's Code 128 barcode as SVG bars (what a till scans from the member's screen). Drawn with
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
  return (
    <Bars modules={modules} label={label} caption={`${digits[0]} ${digits.slice(1, 7)} ${digits.slice(7)}`} />
  );
}

// Code 128: each symbol is three bars and three spaces, their widths in modules (the stop symbol
// has a fourth bar). Index = symbol value; 103-105 start A/B/C, 106 stop.
const CODE128 = (
  "212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 221312 231212 112232 " +
  "122132 122231 113222 123122 123221 223211 221132 221231 213212 223112 312131 311222 321122 " +
  "321221 312212 322112 322211 212123 212321 232121 111323 131123 131321 112313 132113 132311 " +
  "211313 231113 231311 112133 112331 132131 113123 113321 133121 313121 211331 231131 213113 " +
  "213311 213131 311123 311321 331121 312113 312311 332111 314111 221411 431111 111224 111422 " +
  "121124 121421 141122 141221 112214 112412 122114 122411 142112 142211 241211 221114 413111 " +
  "241112 134111 111242 121142 121241 114212 124112 124211 411212 421112 421211 212141 214121 " +
  "412121 111143 111341 131141 114113 114311 411113 411311 113141 114131 311141 411131 211412 " +
  "211214 211232 2331112"
).split(" ");
const START_B = 104;
const STOP = 106;

/** The modules of a Code 128 (code set B) symbol for printable ASCII text, or null otherwise. */
export function code128Modules(text: string): string | null {
  if (!text || !/^[\x20-\x7e]+$/.test(text)) return null;
  const values = [...text].map((c) => c.charCodeAt(0) - 32);
  const check = values.reduce((sum, value, i) => sum + value * (i + 1), START_B) % 103;
  return [START_B, ...values, check, STOP]
    .map((value) =>
      [...CODE128[value]].map((width, i) => (i % 2 === 0 ? "1" : "0").repeat(Number(width))).join(""),
    )
    .join("");
}

/** A coupon's code as the Code 128 barcode a till scans, with the code printed under it. */
export function Code128({ text, label }: { text: string; label: string }) {
  const modules = code128Modules(text);
  if (!modules) return null;
  return <Bars modules={modules} label={label} caption={text} />;
}

function Bars({ modules, label, caption }: { modules: string; label: string; caption: string }) {
  const bars: { x: number; width: number }[] = [];
  for (let i = 0; i < modules.length; i++) {
    if (modules[i] !== "1") continue;
    const last = bars[bars.length - 1];
    if (last && last.x + last.width === i + QUIET) last.width++;
    else bars.push({ x: i + QUIET, width: 1 });
  }
  const width = modules.length + 2 * QUIET;
  return (
    <figure className="barcode">
      <svg role="img" aria-label={label} viewBox={`0 0 ${width} 60`} width={width * 2} height="120">
        <rect x="0" y="0" width={width} height="60" fill="#fff" />
        {bars.map((bar) => (
          <rect key={bar.x} x={bar.x} y="4" width={bar.width} height="52" fill="#000" />
        ))}
      </svg>
      <figcaption className="mono" aria-hidden="true">
        {caption}
      </figcaption>
    </figure>
  );
}
