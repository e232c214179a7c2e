// An order's timeline: every status it entered and every email about it, with the correlation id to grep for.
import { api } from "../api/client";
import type { TimelineEntry } from "../api/operations";
import { useRequest } from "../hooks/useRequest";
import { dateTime } from "./format";
import { Empty, Loading } from "./Status";

/** Refreshes every `pollMs` while the order may change, and after it `settled` until the email about its last
 * status is there (an email follows its status by a moment). A new `version` (status) reloads at once. */
export function OrderTimeline({ orderId, pollMs, settled, version }: { orderId: string; pollMs: number; settled: boolean; version?: string }) {
  const timeline = useRequest(
    (signal) => api.get<TimelineEntry[]>(`/api/v1/orders/${encodeURIComponent(orderId)}/timeline/`, { signal }),
    [orderId, version],
    { poll: (data) => (settled && data?.length && data[data.length - 1].kind === "email" ? null : pollMs) },
  );
  return (
    <section aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      {timeline.loading && !timeline.data && <Loading label="Loading the timeline…" />}
      {/* not an alert: the order itself is what the page is about; a missing timeline is a side note */}
      {timeline.error && <p className="muted">The timeline could not be loaded: {timeline.error.message}</p>}
      {timeline.data &&
        (timeline.data.length === 0 ? (
          <Empty>Nothing has happened yet.</Empty>
        ) : (
          <ol className="history timeline" aria-labelledby="timeline-title">
            {timeline.data.map((entry, index) => (
              <li key={`${entry.at}-${index}`} data-kind={entry.kind}>
                <span className={`badge badge-${entry.kind}`}>{entry.kind === "email" ? "Email" : "Status"}</span>{" "}
                <strong>{entry.title}</strong> <time dateTime={entry.at}>{dateTime(entry.at)}</time>
                {entry.detail && <div className="muted">{entry.detail}</div>}
                {entry.correlation_id && (
                  <div className="muted small">
                    Correlation id <code>{entry.correlation_id}</code>
                  </div>
                )}
              </li>
            ))}
          </ol>
        ))}
    </section>
  );
}
