// Test setup: DOM matchers, a clean DOM and storage between tests.
import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach, beforeEach } from "vitest";
import { setSession } from "../auth/session";

beforeEach(() => {
  localStorage.clear();
  setSession(null);
});

afterEach(() => {
  cleanup();
});
