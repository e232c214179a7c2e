"""Locust scenario of a shopper, with realistic weights: browse, search, product page, cart, checkout, history.

Run headless against a shop's gateway (bench/saga/saga_bench.py --locust SECONDS does, after its own runs):
  .venv/bin/locust -f bench/saga/locustfile.py --headless -u 16 -r 4 -t 60s --host http://127.0.0.1:8080
Products come from BENCH_PRODUCTS (a JSON list of ids) or, without it, from the catalog's first page.
The cart lives in the browser (the storefront keeps it locally): "cart" here is what the page fetches — each
product in it again, for its current price and availability.
"""
import json
import os
import random
import uuid

from locust import HttpUser, between, task

ADDRESS = {"name": "Locust Shopper", "line1": "1 Swarm Road", "line2": "", "city": "Hive", "postal_code": "12345",
           "country": "DE"}
SEARCH_WORDS = ["bench", "item", "widget", "1", "2", "blue"]


class Shopper(HttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self):
        email, password = f"locust-{uuid.uuid4().hex[:12]}@example.com", "Locust-Passw0rd-long!"
        self.client.post("/api/v1/auth/register", json={"email": email, "password": password, "name": "Locust"},
                         name="/api/v1/auth/register")
        reply = self.client.post("/api/v1/auth/token", json={"email": email, "password": password},
                                 name="/api/v1/auth/token")
        self.headers = {"Authorization": f"Bearer {reply.json()['access']}"}
        listed = os.environ.get("BENCH_PRODUCTS")
        if listed:
            self.products = json.loads(listed)
        else:
            self.products = [p["id"] for p in self.client.get("/api/v1/products/").json()["results"]]
        self.cart = []

    @task(40)
    def browse(self):
        self.client.get(f"/api/v1/products/?page={random.randint(1, 2)}", name="/api/v1/products/?page")

    @task(15)
    def search(self):
        self.client.get(f"/api/v1/products/?search={random.choice(SEARCH_WORDS)}", name="/api/v1/products/?search")

    @task(20)
    def product_page(self):
        product = random.choice(self.products)
        self.client.get(f"/api/v1/products/{product}/", name="/api/v1/products/{id}/")
        if random.random() < 0.4:
            self.cart.append(product)

    @task(10)
    def cart_page(self):
        for product in set(self.cart) or {random.choice(self.products)}:
            self.client.get(f"/api/v1/products/{product}/", name="/api/v1/products/{id}/ (cart)")

    @task(8)
    def checkout(self):
        items = sorted(set(self.cart)) or [random.choice(self.products)]
        self.client.post("/api/v1/orders/", headers=self.headers, name="/api/v1/orders/ (checkout)", json={
            "items": [{"product_id": p, "quantity": random.randint(1, 2)} for p in items[:5]],
            "shipping_address": ADDRESS})
        self.cart = []

    @task(7)
    def order_history(self):
        self.client.get("/api/v1/orders/", headers=self.headers, name="/api/v1/orders/")
