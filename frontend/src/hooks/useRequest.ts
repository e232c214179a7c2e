// Load data for a component with loading, error and retry states, optionally polling for live updates.
import { useCallback, useEffect, useRef, useState, type DependencyList } from "react";
import { ApiError } from "../api/client";

export interface RequestState<T> {
  data: T | undefined;
  error: ApiError | null;
  /** True only while nothing has been loaded yet (or after a reload was asked for). */
  loading: boolean;
  reload: () => void;
}

export interface RequestOptions<T> {
  /** Milliseconds until the next silent refresh after this data arrived; null or 0 stops polling. */
  poll?: (data: T | undefined) => number | null;
}

function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(-1, (error as Error)?.message || "Something went wrong.");
}

export function useRequest<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: DependencyList,
  options: RequestOptions<T> = {},
): RequestState<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const pollRef = useRef(options.poll);
  pollRef.current = options.poll;

  const reload = useCallback(() => {
    setLoading(true);
    setGeneration((g) => g + 1);
  }, []);

  useEffect(() => {
    setLoading(true);
    setData(undefined);
    setError(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;

    let latest: T | undefined;

    const run = async () => {
      try {
        const next = await loadRef.current(controller.signal);
        if (stopped) return;
        latest = next;
        setData(next);
        setError(null);
      } catch (caught) {
        if (stopped || (caught as Error)?.name === "AbortError") return;
        // Keep showing what was loaded before: a failed poll is an outage notice, not a blank page.
        setError(asApiError(caught));
      } finally {
        if (!stopped) setLoading(false);
      }
      const delay = pollRef.current?.(latest);
      if (delay && !stopped) timer = setTimeout(run, delay);
    };
    run();
    return () => {
      stopped = true;
      controller.abort();
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, generation]);

  return { data, error, loading, reload };
}
