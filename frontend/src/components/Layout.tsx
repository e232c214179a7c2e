// Page frame: skip link, header navigation (storefront, cart, account, staff console), main region, footer.
import { useEffect, useRef } from "react";
import { Link, NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { useAuth } from "../auth/AuthContext";
import { useCart } from "../cart/CartContext";
import { ErrorBoundary } from "./ErrorBoundary";

export function Layout() {
  const { user, isStaff, logout } = useAuth();
  const { count } = useCart();
  const location = useLocation();
  const navigate = useNavigate();
  const mainRef = useRef<HTMLElement>(null);
  const firstRender = useRef(true);

  // After navigating, put keyboard and screen-reader focus at the start of the new page.
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    mainRef.current?.focus();
  }, [location.pathname]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="container header-inner">
          <Link to="/" className="brand">
            Shop
          </Link>
          <nav aria-label="Main">
            <ul className="nav-list">
              <li>
                <NavLink to="/" end>
                  Catalog
                </NavLink>
              </li>
              <li>
                <NavLink to="/cart" aria-label={`Cart, ${count} item${count === 1 ? "" : "s"}`}>
                  Cart <span className="pill" aria-hidden="true">{count}</span>
                </NavLink>
              </li>
              {user && (
                <li>
                  <NavLink to="/orders">My orders</NavLink>
                </li>
              )}
              {isStaff && (
                <li>
                  <NavLink to="/staff">Staff console</NavLink>
                </li>
              )}
              {user ? (
                <li className="account">
                  <span className="muted" data-testid="signed-in-as">
                    {user.name || user.email}
                  </span>
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => {
                      logout();
                      navigate("/");
                    }}
                  >
                    Sign out
                  </button>
                </li>
              ) : (
                <>
                  <li>
                    <NavLink to="/login">Sign in</NavLink>
                  </li>
                  <li>
                    <NavLink to="/register">Register</NavLink>
                  </li>
                </>
              )}
            </ul>
          </nav>
        </div>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1} className="container">
        <ErrorBoundary resetKey={location.pathname}>
          <Outlet />
        </ErrorBoundary>
      </main>
      <footer className="site-footer">
        <div className="container muted">Shop · prices include VAT · orders are confirmed once stock is reserved</div>
      </footer>
    </>
  );
}
