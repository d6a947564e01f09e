core.register_action("set-header", { "http-req" }, function(txn)
  txn.http:req_set_header("x-bench", "halua")
end)
