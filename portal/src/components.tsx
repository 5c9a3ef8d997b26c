/** Small pieces every page uses: amounts, times, ids with copy, transaction links, a bar chart, loading states. */
import { createContext, type ComponentChildren } from "preact";
import { useContext, useState } from "preact/hooks";
import { exactAmount, formatAmount, formatDate, formatTime, shortId, type Token } from "./format.js";

export function Amount({ value, token }: { value: string | null | undefined; token: Token }) {
  if (value === null || value === undefined) return <span aria-label="none">—</span>;
  return (
    <span class="amount" title={exactAmount(value, token)}>
      {formatAmount(value, token)}
    </span>
  );
}

export function Time({ at, date }: { at: number | null | undefined; date?: boolean }) {
  if (at === null || at === undefined) return <span aria-label="none">—</span>;
  return <time dateTime={new Date(at * 1000).toISOString()}>{date ? formatDate(at) : formatTime(at)}</time>;
}

/** A shortened id with a button that copies the whole of it. */
export function Id({ value, href, label }: { value: string; href?: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };
  const text = <code title={value}>{shortId(value)}</code>;
  return (
    <span class="id">
      {href ? (
        <a href={href} aria-label={`${label ?? "id"} ${value}`}>
          {text}
        </a>
      ) : (
        text
      )}
      <button type="button" class="copy" onClick={copy} aria-label={`Copy ${label ?? "id"} ${value}`}>
        {copied ? "copied" : "copy"}
      </button>
      <span class="visually-hidden" aria-live="polite">
        {copied ? "copied to the clipboard" : ""}
      </span>
    </span>
  );
}

/** The alliance's members by lower-case address, as the status names them: every page marks an address with them. */
export const Members = createContext<
  Record<string, { roles: string[]; standing: string; name?: string; nameProven?: boolean }>
>({});

/** A member's standing and roles in words ("platform, expelled"), or undefined for an address that is no member. */
export function useStanding(address: string): string | undefined {
  const member = useContext(Members)[address.toLowerCase()];
  if (!member) return undefined;
  const roles = member.roles.map((r) => r.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()).join(" and ");
  // A name is the directory's: said so when it is not the one the member registered on chain.
  const name = member.name ? `${member.name}${member.nameProven ? "" : " (not the name it registered)"}: ` : "";
  return `${name}${roles || "no role"}, ${member.standing.toLowerCase()}`;
}

/** An address, with the standing of the member it is (active, suspended or expelled) beside it. */
export function Member({ address, label }: { address: string; label?: string }) {
  const standing = useStanding(address);
  const member = useContext(Members)[address.toLowerCase()];
  return (
    <span class="member">
      <Id value={address} label={label ?? "address"} />
      {standing && (
        <span class={`standing standing-${member!.standing.toLowerCase()}`} data-standing={member!.standing}>
          {standing}
        </span>
      )}
    </span>
  );
}

export function TxLink({ hash }: { hash: string }) {
  return <Id value={hash} href={`#/tx/${hash}`} label="transaction" />;
}

export function LoanLink({ loanId }: { loanId: string }) {
  return <Id value={loanId} href={`#/loan/${loanId}`} label="loan" />;
}

export function Loading({ error, what }: { error?: string; what: string }) {
  if (error)
    return (
      <p class="error" role="alert">
        Could not load {what}: {error}
      </p>
    );
  return (
    <p class="loading" aria-busy="true">
      Loading {what}…
    </p>
  );
}

/** A table that scrolls sideways on a narrow screen rather than squeezing its columns. */
/** A table's header row: each column's name, given with "num" for a column of numbers (set right, as its cells). */
export function Head({ columns }: { columns: (string | [string, "num"])[] }) {
  return (
    <thead>
      <tr>
        {columns.map((column, i) =>
          typeof column === "string" ? (
            <th key={i} scope="col">
              {column}
            </th>
          ) : (
            <th key={i} scope="col" class="num">
              {column[0]}
            </th>
          ),
        )}
      </tr>
    </thead>
  );
}

export function Table({ caption, children }: { caption: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={caption} tabIndex={0}>
      <table>
        <caption>{caption}</caption>
        {children}
      </table>
    </div>
  );
}

export interface Bar {
  label: string;
  /** In the token's smallest unit. */
  value: bigint;
  text: string;
}

/**
 * A horizontal bar chart in SVG. Its figures are in the table beside it as well, so a screen reader (or a printout)
 * loses nothing; the chart itself is labelled as an image of them.
 */
export function BarChart({ title, bars }: { title: string; bars: Bar[] }) {
  const max = bars.reduce((m, b) => (b.value > m ? b.value : m), 0n);
  const row = 28;
  const height = Math.max(bars.length, 1) * row + 8;
  return (
    <figure class="chart">
      <svg
        role="img"
        aria-label={`${title}: ${bars.map((b) => `${b.label} ${b.text}`).join("; ")}`}
        viewBox={`0 0 520 ${height}`}
        width="100%"
      >
        {bars.map((b, i) => {
          const width = max === 0n ? 0 : Number((b.value * 1000n) / max) / 1000;
          return (
            <g key={b.label} transform={`translate(0 ${i * row + 4})`}>
              <text x="0" y="16" class="chart-label">
                {b.label}
              </text>
              <rect
                x="110"
                y="3"
                height="18"
                width={Math.max(width * 220, b.value > 0n ? 1 : 0)}
                class="chart-bar"
                rx="2"
              />
              <text x={114 + width * 220} y="16" class="chart-value">
                {b.text}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption>{title}</figcaption>
    </figure>
  );
}
