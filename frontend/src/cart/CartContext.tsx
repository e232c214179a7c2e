// The shopping cart, kept in localStorage so it survives reloads and is shared between tabs.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import type { Product } from "../api/types";

const STORAGE_KEY = "shop.cart";
/** The order service accepts 1–100 of a product per line. */
export const MAX_LINE_QUANTITY = 100;

export interface CartLine {
  product_id: string | number;
  sku: string;
  name: string;
  price: string;
  currency: string;
  quantity: number;
}

interface CartValue {
  lines: CartLine[];
  count: number;
  total: number;
  currency: string;
  add: (product: Product, quantity?: number) => void;
  setQuantity: (productId: string | number, quantity: number) => void;
  remove: (productId: string | number) => void;
  clear: () => void;
}

const CartContext = createContext<CartValue | null>(null);

export function loadCart(): CartLine[] {
  try {
    const parsed = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "[]");
    return Array.isArray(parsed) ? parsed.filter((line) => line && line.product_id != null && line.quantity > 0) : [];
  } catch {
    return [];
  }
}

function clamp(quantity: number): number {
  return Math.max(1, Math.min(MAX_LINE_QUANTITY, Math.floor(quantity) || 1));
}

export function CartProvider({ children }: { children: ReactNode }) {
  const [lines, setLines] = useState<CartLine[]>(loadCart);

  useEffect(() => {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(lines));
    } catch {
      // Storage full or forbidden: the cart still works for this page's lifetime.
    }
  }, [lines]);

  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.key === STORAGE_KEY) setLines(loadCart());
    };
    window.addEventListener("storage", onStorage);
    return () => window.removeEventListener("storage", onStorage);
  }, []);

  const add = useCallback((product: Product, quantity = 1) => {
    setLines((current) => {
      const existing = current.find((line) => String(line.product_id) === String(product.id));
      if (existing) {
        return current.map((line) =>
          line === existing ? { ...line, quantity: clamp(line.quantity + quantity), price: product.price } : line,
        );
      }
      return [
        ...current,
        {
          product_id: product.id,
          sku: product.sku,
          name: product.name,
          price: product.price,
          currency: product.currency,
          quantity: clamp(quantity),
        },
      ];
    });
  }, []);

  const setQuantity = useCallback((productId: string | number, quantity: number) => {
    setLines((current) =>
      current.map((line) => (String(line.product_id) === String(productId) ? { ...line, quantity: clamp(quantity) } : line)),
    );
  }, []);

  const remove = useCallback((productId: string | number) => {
    setLines((current) => current.filter((line) => String(line.product_id) !== String(productId)));
  }, []);

  const clear = useCallback(() => setLines([]), []);

  const value = useMemo<CartValue>(() => {
    const total = lines.reduce((sum, line) => sum + Number(line.price) * line.quantity, 0);
    return {
      lines,
      count: lines.reduce((sum, line) => sum + line.quantity, 0),
      total,
      currency: lines[0]?.currency ?? "EUR",
      add,
      setQuantity,
      remove,
      clear,
    };
  }, [lines, add, setQuantity, remove, clear]);

  return <CartContext.Provider value={value}>{children}</CartContext.Provider>;
}

export function useCart(): CartValue {
  const value = useContext(CartContext);
  if (!value) throw new Error("useCart must be used inside <CartProvider>");
  return value;
}
