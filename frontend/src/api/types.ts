// Shapes of the public HTTP API (DESIGN.md §5) as the app uses them.

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export type Role = "customer" | "staff";

export interface User {
  id: string | number;
  email: string;
  name: string;
  role: Role;
}

export interface TokenPair {
  access: string;
  refresh?: string;
  token_type?: string;
  expires_in?: number;
}

export interface PasswordResetRequest {
  email: string;
}

export interface PasswordResetConfirm {
  token: string;
  password: string;
}

export interface Category {
  slug: string;
  name: string;
}

export interface Product {
  id: string | number;
  sku: string;
  name: string;
  description?: string;
  price: string;
  currency: string;
  category?: string | null;
  image_url?: string | null;
  active: boolean;
  available?: number;
  created_at?: string;
  updated_at?: string;
  version?: number;
}

export interface StockLevels {
  on_hand: number;
  reserved: number;
  available: number;
}

export type OrderStatus = "pending" | "confirmed" | "rejected" | "cancelled" | "shipped" | "delivered";

export interface OrderItem {
  product_id: string | number;
  sku?: string;
  name?: string;
  quantity: number;
  unit_price?: string;
  line_total?: string;
}

export interface Address {
  name: string;
  line1: string;
  line2: string;
  city: string;
  postal_code: string;
  country: string;
}

export interface HistoryEntry {
  status: OrderStatus;
  at: string;
  reason?: string | null;
}

export interface Order {
  id: string | number;
  status: OrderStatus;
  items: OrderItem[];
  total: string;
  currency: string;
  shipping_address?: Address;
  customer_id?: string | number;
  customer_email?: string;
  history?: HistoryEntry[];
  created_at: string;
  updated_at?: string;
}

export interface Email {
  id: string | number;
  to: string;
  subject: string;
  kind: string;
  status: string;
  attempts: number;
  cause_event_id?: string;
  order_id?: string | number | null;
  created_at: string;
  sent_at?: string | null;
  /** Detail only: the email service sends the text and HTML bodies separately. */
  body?: string;
  body_text?: string;
  body_html?: string;
  last_error?: string;
}

/** Orders in these states will not change any more, so their pages stop polling. */
export const SETTLED_STATUSES: OrderStatus[] = ["rejected", "cancelled", "delivered"];
