"""Settings of the benchmark run: the product service's own, plus the baseline views of bench_urls."""
from config.settings import *  # noqa: F401,F403 - the service exactly as shipped

ROOT_URLCONF = "bench_urls"
