-- Every request a page nothing has cached: a filter value of its own (max_price just under the limit, with new
-- decimals each time) selects the same rows as no filter, but neither the gateway nor the service has the page.
request = function()
  return wrk.format(nil, wrk.path .. "&max_price=99999998." .. math.random(1, 1000000000))
end
