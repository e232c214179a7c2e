-- Every request a URL of its own: the page cache never hits, so this measures rendering a page afresh.
request = function()
  return wrk.format(nil, wrk.path .. "&n=" .. math.random(1, 1000000000))
end
