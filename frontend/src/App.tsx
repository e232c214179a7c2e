// Routes of the single-page app: the storefront at /, the staff console under /staff.
import { Navigate, Route, Routes } from "react-router";
import { Layout } from "./components/Layout";
import { RequireAuth } from "./components/RequireAuth";
import { Cart } from "./pages/Cart";
import { Catalog } from "./pages/Catalog";
import { Checkout } from "./pages/Checkout";
import { Login, Register } from "./pages/auth";
import { ForgotPassword, RESET_PASSWORD_PATH, ResetPassword } from "./pages/passwordReset";
import { MyOrders, OrderDetail } from "./pages/orders";
import { ProductPage } from "./pages/ProductPage";
import { ProductCreate, ProductEdit } from "./pages/staff/ProductEditor";
import { StaffEmailDetail, StaffEmails } from "./pages/staff/StaffEmails";
import { StaffLayout } from "./pages/staff/StaffLayout";
import { StaffOperations } from "./pages/staff/StaffOperations";
import { StaffOrders } from "./pages/staff/StaffOrders";
import { StaffProducts } from "./pages/staff/StaffProducts";

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <a href="/">Go to the catalog</a>
      </p>
    </section>
  );
}

export function AppRoutes() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Catalog />} />
        <Route path="products/:id" element={<ProductPage />} />
        <Route path="cart" element={<Cart />} />
        <Route path="login" element={<Login />} />
        <Route path="register" element={<Register />} />
        <Route path="forgot-password" element={<ForgotPassword />} />
        <Route path={RESET_PASSWORD_PATH.slice(1)} element={<ResetPassword />} />
        <Route path="checkout" element={<RequireAuth><Checkout /></RequireAuth>} />
        <Route path="orders" element={<RequireAuth><MyOrders /></RequireAuth>} />
        <Route path="orders/:id" element={<RequireAuth><OrderDetail /></RequireAuth>} />
        <Route path="staff" element={<StaffLayout />}>
          <Route index element={<Navigate to="/staff/products" replace />} />
          <Route path="products" element={<StaffProducts />} />
          <Route path="products/new" element={<ProductCreate />} />
          <Route path="products/:id" element={<ProductEdit />} />
          <Route path="orders" element={<StaffOrders />} />
          <Route path="emails" element={<StaffEmails />} />
          <Route path="emails/:id" element={<StaffEmailDetail />} />
          <Route path="operations" element={<StaffOperations />} />
        </Route>
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
