// An order status as a coloured badge whose text, not colour, carries the meaning.
import { statusLabel } from "./format";

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`} data-status={status}>{statusLabel(status)}</span>;
}
