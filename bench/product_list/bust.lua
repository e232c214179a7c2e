-- Every request a cache-busting argument of its own (`_=<random>`, as a client that defeats caches sends): the
-- list ignores it, so the gateway and the service serve the page they keep for the URL without it.
request = function()
  return wrk.format(nil, wrk.path .. "&_=" .. math.random(1, 1000000000))
end
