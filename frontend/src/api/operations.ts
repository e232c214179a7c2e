// Shapes of the order timeline and the operations console (DESIGN.md §5), kept apart from the storefront's types.

/** One entry of an order's timeline: a status it entered, or a message sent (or given up on) about it. */
export interface TimelineEntry {
  at: string;
  kind: "status" | "email";
  title: string;
  detail: string;
  correlation_id: string;
}

/** One service's pipeline as GET /api/v1/ops/status/ reports it; null where the service has no such thing. */
export interface ServiceStatus {
  service: string;
  ready: boolean;
  outbox_pending: number | null;
  outbox_oldest_age_s: number | null;
  queue_depth: number | null;
  consumers: number | null;
  parked: number | null;
  error?: string;
}

/** A message parked in a service's dead-letter queue. */
export interface ParkedMessage {
  id: string;
  type: string;
  subject: string;
  correlation_id: string;
  error: string;
  attempts: number | null;
  parked_at: string | null;
}
