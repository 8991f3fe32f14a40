#!/usr/bin/env bash
# Makes docs/dashboard.png: the word count on 2 cores under a paced sender, its dashboard
# in headless Chromium after SECONDS (default 45) of polling. Headless Chromium shoots at
# the page's load event, so the dashboard is framed by a page whose one image a local
# server answers only after SECONDS: until then the dashboard polls in real time.
#
#   scripts/dashboard-screenshot.sh [SECONDS]      (needs cargo build --release, chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-45}
roo=target/release/roo
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
in=127.0.0.1:$(port); out=127.0.0.1:$(port); metrics=127.0.0.1:$(port); frame=$(port)

"$roo" receive --listen "$out" --quiet 2>/dev/null & pids+=($!)
"$roo" run --cores 2 --metrics-listen "$metrics" examples/word_count.py --in "$in" --out "$out" \
  2>"$work/roo.err" & pids+=($!)
for _ in $(seq 200); do grep -q "roo: ready" "$work/roo.err" && break; sleep 0.1; done
"$roo" send --to "$in" --generate words --rate 20000 --connections 2 --quiet 2>/dev/null & pids+=($!)

python3 - "$frame" "$metrics" "$seconds" <<'EOF' & pids+=($!)
import http.server, sys, time
port, metrics, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
page = (f'<body style="margin:0"><iframe src="http://{metrics}/" width="1400" height="960" '
        f'style="border:0"></iframe><img src="/late" width="1" height="1"></body>').encode()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/late":
            time.sleep(seconds)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(page if self.path == "/" else b"")
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
EOF
sleep 1
mkdir -p docs
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,960 \
  --screenshot=docs/dashboard.png "http://127.0.0.1:$frame/" 2>/dev/null
echo "docs/dashboard.png written"
