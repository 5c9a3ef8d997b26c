/** The portal's API client: typed reads of the read-only server, in the types the server is checked against. */
import { useEffect, useState } from "preact/hooks";

export type {
  AllianceReport,
  AuditReportSummary,
  CustodyPage,
  Disclosure,
  LenderPage,
  LenderPosition,
  Loan,
  LoanList,
  LoanPage,
  Payout,
  PlatformPage,
  Position,
  Proof,
  SignatureCheck,
  SigningPage,
  Status,
  TimelineItem,
  TransactionPage,
} from "../../src/portal/wire.js";

export { owesPrincipal } from "../../src/portal/wire.js";

export async function get<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  const body = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

/** Loads `path` (again whenever it changes); undefined while loading. */
export function useApi<T>(path: string | null): { data?: T; error?: string } {
  const [state, setState] = useState<{ data?: T; error?: string; path?: string | null }>({});
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState({ path });
    get<T>(path).then(
      (data) => live && setState({ data, path }),
      (error: Error) => live && setState({ error: error.message, path }),
    );
    return () => {
      live = false;
    };
  }, [path]);
  return state.path === path ? state : {};
}
