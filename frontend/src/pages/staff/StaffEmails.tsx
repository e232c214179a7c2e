// Staff: the email log (filter by recipient, kind, status) and each message's full text.
import { useState, type FormEvent } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { api, query } from "../../api/client";
import type { Email, EmailDetail, Page } from "../../api/types";
import { dateTime } from "../../components/format";
import { Pagination } from "../../components/Pagination";
import { Empty, ErrorMessage, Loading } from "../../components/Status";
import { useRequest } from "../../hooks/useRequest";

const PAGE_SIZE = 25;
const KINDS = ["welcome", "password_reset", "order_confirmed", "order_rejected", "order_cancelled", "order_shipped", "order_delivered"];
const STATUSES = ["queued", "sent", "failed"];

export function StaffEmails() {
  const [params, setParams] = useSearchParams();
  const to = params.get("to") ?? "";
  const kind = params.get("kind") ?? "";
  const status = params.get("status") ?? "";
  const page = Math.max(1, Number(params.get("page")) || 1);
  const [toText, setToText] = useState(to);
  const emails = useRequest(
    (signal) => api.get<Page<Email>>(`/api/v1/emails/${query({ to, kind, status, page, page_size: PAGE_SIZE })}`, { signal }),
    [to, kind, status, page],
  );

  const update = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [name, value] of Object.entries(changes)) (value ? next.set(name, value) : next.delete(name));
    if (!("page" in changes)) next.delete("page");
    setParams(next);
  };

  return (
    <section aria-labelledby="emails-title">
      <h2 id="emails-title">Email log</h2>
      <form
        className="filters"
        role="search"
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          update({ to: toText.trim() });
        }}
      >
        <div className="field">
          <label htmlFor="email-to">Recipient</label>
          <div className="inline">
            <input id="email-to" type="search" value={toText} onChange={(e) => setToText(e.target.value)} placeholder="customer@example.com" />
            <button type="submit" className="secondary">
              Filter
            </button>
          </div>
        </div>
        <div className="field">
          <label htmlFor="email-kind">Kind</label>
          <select id="email-kind" value={kind} onChange={(e) => update({ kind: e.target.value })}>
            <option value="">All</option>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k.replace("_", " ")}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="email-status">Status</label>
          <select id="email-status" value={status} onChange={(e) => update({ status: e.target.value })}>
            <option value="">All</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </form>
      {emails.loading && <Loading label="Loading emails…" />}
      {emails.error && <ErrorMessage error={emails.error} onRetry={emails.reload} title="The email log could not be loaded." />}
      {emails.data &&
        (emails.data.results.length === 0 ? (
          <Empty>No emails match.</Empty>
        ) : (
          <>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Subject</th>
                    <th scope="col">To</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Status</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {emails.data.results.map((email) => (
                    <tr key={email.id}>
                      <td>
                        <Link to={`/staff/emails/${email.id}`}>{email.subject || "(no subject)"}</Link>
                      </td>
                      <td>{email.to}</td>
                      <td>{email.kind}</td>
                      <td>
                        <span className={`badge email-${email.status}`}>{email.status}</span>
                      </td>
                      <td>{email.attempts}</td>
                      <td>{dateTime(email.created_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pagination page={page} pageSize={PAGE_SIZE} count={emails.data.count} onPage={(p) => update({ page: String(p) })} />
          </>
        ))}
    </section>
  );
}

export function StaffEmailDetail() {
  const { id = "" } = useParams();
  const email = useRequest((signal) => api.get<EmailDetail>(`/api/v1/emails/${encodeURIComponent(id)}/`, { signal }), [id]);
  return (
    <section aria-labelledby="email-title">
      <p>
        <Link to="/staff/emails">‹ Email log</Link>
      </p>
      {email.loading && <Loading label="Loading the message…" />}
      {email.error && <ErrorMessage error={email.error} onRetry={email.reload} />}
      {email.data && (
        <article className="card">
          <h2 id="email-title">{email.data.subject || "(no subject)"}</h2>
          <dl className="meta">
            <dt>To</dt>
            <dd>{email.data.to}</dd>
            <dt>Kind</dt>
            <dd>{email.data.kind}</dd>
            <dt>Status</dt>
            <dd>
              {email.data.status} after {email.data.attempts} attempt{email.data.attempts === 1 ? "" : "s"}
            </dd>
            <dt>Created</dt>
            <dd>{dateTime(email.data.created_at)}</dd>
            <dt>Sent</dt>
            <dd>{dateTime(email.data.sent_at)}</dd>
            {email.data.order_id && (
              <>
                <dt>Order</dt>
                <dd>
                  <Link to={`/orders/${email.data.order_id}`}>{String(email.data.order_id).slice(0, 8)}</Link>
                </dd>
              </>
            )}
          </dl>
          {email.data.last_error && (
            <p className="alert alert-warning">Last error: {email.data.last_error}</p>
          )}
          <h3>Message</h3>
          <pre className="email-body" data-testid="email-body">
            {email.data.body_text ?? email.data.body ?? "(no text)"}
          </pre>
          {email.data.body_html && (
            <details>
              <summary>HTML version</summary>
              {/* An empty sandbox: the stored HTML can neither run scripts nor reach this app. */}
              <iframe className="email-html" title="HTML version of the message" sandbox="" srcDoc={email.data.body_html} />
            </details>
          )}
        </article>
      )}
    </section>
  );
}
