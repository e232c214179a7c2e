// The staff console frame: its own sub-navigation; every page below is for the staff role only.
import { NavLink, Outlet } from "react-router";
import { RequireStaff } from "../../components/RequireAuth";

export function StaffLayout() {
  return (
    <RequireStaff>
      <div className="staff">
        <div className="staff-header">
          <h1 className="staff-title">Staff console</h1>
          <nav aria-label="Staff console">
            <ul className="tabs">
              <li>
                <NavLink to="/staff/products">Products</NavLink>
              </li>
              <li>
                <NavLink to="/staff/orders">Orders</NavLink>
              </li>
              <li>
                <NavLink to="/staff/emails">Email log</NavLink>
              </li>
              <li>
                <NavLink to="/staff/operations">Operations</NavLink>
              </li>
            </ul>
          </nav>
        </div>
        <Outlet />
      </div>
    </RequireStaff>
  );
}
