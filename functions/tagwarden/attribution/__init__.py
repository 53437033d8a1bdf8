"""Attribution: what a derivation source sees (context), where values come from (sources), the
cloud's tag limits, and decide(): one decision per created resource. Pure."""
