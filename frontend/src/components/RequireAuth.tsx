// Route guards: signed-in customers for checkout and orders, the staff role for the console.
import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import { useAuth } from "../auth/AuthContext";
import { ErrorMessage, Loading } from "./Status";

export function RequireAuth({ children }: { children: ReactNode }) {
  const { session, user, accountError, retryAccount, logout } = useAuth();
  const location = useLocation();
  if (!session) {
    return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  }
  if (!user && accountError) {
    return (
      <>
        <ErrorMessage error={accountError} onRetry={retryAccount} title="Your account could not be loaded." />
        <button type="button" className="secondary" onClick={logout}>
          Sign out
        </button>
      </>
    );
  }
  if (!user) return <Loading label="Loading your account…" />;
  return <>{children}</>;
}

export function RequireStaff({ children }: { children: ReactNode }) {
  const { user } = useAuth();
  return (
    <RequireAuth>
      {user?.role === "staff" ? (
        children
      ) : (
        <div className="panel" role="alert">
          <h1>Staff only</h1>
          <p>The staff console is available to staff accounts only.</p>
        </div>
      )}
    </RequireAuth>
  );
}
