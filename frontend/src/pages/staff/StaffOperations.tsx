// Staff: the pipeline of every service (ready, outbox, queue, parked) and each service's parked messages,
// with replay (back on its queue) and discard (gone for good) buttons.
import { useState } from "react";
import { api, ApiError, query } from "../../api/client";
import type { ParkedMessage, ServiceStatus } from "../../api/operations";
import type { Page } from "../../api/types";
import { dateTime } from "../../components/format";
import { Empty, ErrorMessage, Loading, Notice } from "../../components/Status";
import { useRequest } from "../../hooks/useRequest";

/** The pipeline moves in seconds: refresh often enough to watch a replayed message leave. */
export const OPS_REFRESH_MS = 5_000;

function figure(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : String(value);
}

export function StaffOperations() {
  const status = useRequest((signal) => api.get<ServiceStatus[]>("/api/v1/ops/status/", { signal }), [], {
    poll: () => OPS_REFRESH_MS,
  });
  const [done, setDone] = useState<string | null>(null);
  const consuming = (status.data ?? []).filter((s) => s.parked !== null);

  return (
    <section aria-labelledby="ops-title">
      <h2 id="ops-title">Operations</h2>
      {status.loading && !status.data && <Loading label="Loading the services' status…" />}
      {status.error && <ErrorMessage error={status.error} onRetry={status.reload} title="Status could not be loaded." />}
      {status.data && (
        <div className="table-wrap">
          <table aria-label="Services">
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Ready</th>
                <th scope="col">Outbox pending</th>
                <th scope="col">Oldest pending (s)</th>
                <th scope="col">Queue depth</th>
                <th scope="col">Consumers</th>
                <th scope="col">Parked</th>
              </tr>
            </thead>
            <tbody>
              {status.data.map((s) => (
                <tr key={s.service} data-service={s.service}>
                  <th scope="row">{s.service}</th>
                  <td>
                    <span className={`badge ${s.ready ? "badge-ok" : "badge-bad"}`} title={s.error}>
                      {s.ready ? "ready" : "not ready"}
                    </span>
                  </td>
                  <td>{figure(s.outbox_pending)}</td>
                  <td>{s.outbox_oldest_age_s === null ? "—" : s.outbox_oldest_age_s.toFixed(1)}</td>
                  <td>{figure(s.queue_depth)}</td>
                  <td>{figure(s.consumers)}</td>
                  <td>{figure(s.parked)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {done && <Notice kind="success">{done}</Notice>}
      {consuming.map((s) => (
        <ParkedMessages
          key={s.service}
          service={s.service}
          count={s.parked ?? 0}
          onChanged={(what) => {
            setDone(what);
            status.reload();
          }}
        />
      ))}
    </section>
  );
}

function ParkedMessages({ service, count, onChanged }: { service: string; count: number; onChanged: (what: string) => void }) {
  const parked = useRequest(
    (signal) => api.get<Page<ParkedMessage>>(`/api/v1/ops/${service}/parked/${query({ page_size: 100 })}`, { signal }),
    [service, count],
  );
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const act = async (message: ParkedMessage, action: "replay" | "discard") => {
    if (action === "discard" && !window.confirm(`Discard ${message.type} ${message.id} for good?`)) return;
    setBusy(message.id);
    setError(null);
    try {
      const base = `/api/v1/ops/${service}/parked/${encodeURIComponent(message.id)}`;
      if (action === "replay") await api.post(`${base}/replay`);
      else await api.delete(`${base}/`);
      onChanged(`${action === "replay" ? "Replayed" : "Discarded"} ${message.type} ${message.id} (${service}).`);
      parked.reload();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(-1, (caught as Error).message));
    } finally {
      setBusy(null);
    }
  };

  const messages = parked.data?.results ?? [];
  return (
    <section aria-labelledby={`parked-${service}`} data-parked-service={service}>
      <h3 id={`parked-${service}`}>Parked in {service}</h3>
      {parked.loading && !parked.data && <Loading label={`Loading ${service}'s parked messages…`} />}
      {parked.error && <ErrorMessage error={parked.error} onRetry={parked.reload} />}
      {error && <ErrorMessage error={error} />}
      {parked.data &&
        (messages.length === 0 ? (
          <Empty>No parked messages.</Empty>
        ) : (
          <div className="table-wrap">
            <table aria-label={`Parked messages of ${service}`}>
              <thead>
                <tr>
                  <th scope="col">Type</th>
                  <th scope="col">Subject</th>
                  <th scope="col">Error</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Parked</th>
                  <th scope="col">Correlation id</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {messages.map((m) => (
                  <tr key={m.id} data-message-id={m.id}>
                    <td>{m.type}</td>
                    <td>
                      <code>{m.subject || "—"}</code>
                    </td>
                    <td className="error-text">{m.error}</td>
                    <td>{figure(m.attempts)}</td>
                    <td>{m.parked_at ? dateTime(m.parked_at) : "—"}</td>
                    <td>
                      <code>{m.correlation_id || "—"}</code>
                    </td>
                    <td>
                      <div className="actions compact">
                        <button type="button" className="small" aria-label={`Replay ${m.id}`} disabled={busy === m.id} onClick={() => act(m, "replay")}>
                          Replay
                        </button>
                        <button type="button" className="small danger" aria-label={`Discard ${m.id}`} disabled={busy === m.id} onClick={() => act(m, "discard")}>
                          Discard
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </section>
  );
}
