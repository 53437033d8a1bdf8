from tagwarden.demo.offline import run

raise SystemExit(run())
