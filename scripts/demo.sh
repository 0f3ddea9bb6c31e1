#!/usr/bin/env bash
# The main job on the embedded default: a simulated RTSP camera watching a village yard where
# a steel-roof shed goes up, and `sitewatch run` (API, web pages, worker, SQLite) on it.
# Within about a minute the structure is found and a case with its evidence waits in the
# review queue, ready to be walked through the five-role workflow in the browser.
#   DEMO_SERVE=0   exit 0 once the case is open, after printing "case opened: URL" (CI)
#   DEMO_PORT=8000 the web pages' port;  DEMO_OUT=demo-out  where everything lands
#   DEMO_SCENE=zone_day  another scene (`sitewatch synth scene --list`)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

out=${DEMO_OUT:-demo-out}
scene=${DEMO_SCENE:-zone_day}
port=${DEMO_PORT:-8000}
sw=$PWD/.venv/bin/sitewatch
py=$PWD/.venv/bin/python
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
step() { printf '\n== %s\n' "$*"; }

step "1. a synthetic camera scene ($scene): hours of a village yard compressed into seconds"
$sw synth scene "$scene" -o "$out/camera.mp4" --truth "$out/truth.json" --config-out "$out/scene.yaml"
speed=$(sed -n 's/.*replay with --speed \([0-9.]*\).*/\1/p' "$out/scene.yaml" | head -n1)

step "2. the scene served as a live RTSP camera (GStreamer)"
rtsp=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$sw simulate "$out/camera.mp4" --port "$rtsp" >"$out/simulate.log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null || true; wait $sim 2>/dev/null || true' EXIT
url="rtsp://127.0.0.1:$rtsp/cam0"
for _ in $(seq 50); do grep -q "$url" "$out/simulate.log" 2>/dev/null && break; sleep 0.2; done

step "3. the site: the scene's camera and zone, a district with its towns, the database"
$py - "$out/scene.yaml" "$out/site.yaml" "$url" "$port" "$out" <<'PY'
import sys, yaml
scene, site, url, port, out = sys.argv[1:]
cfg = yaml.safe_load(open(scene, encoding="utf-8"))
cfg["units"] = {"district": "闽侯县", "towns": {"南屿镇": ["旗山村", "南井村"], "上街镇": ["榕桥村"]}}
cfg["cameras"][0].update(url=url, name="旗山村村东")
cfg["database"] = {"url": f"sqlite:///{out}/sitewatch.db"}
cfg["api"] = {"host": "127.0.0.1", "port": int(port)}
cfg["storage"] = {"evidence_dir": "evidence", "reference_dir": "state/references"}
yaml.safe_dump(cfg, open(site, "w", encoding="utf-8"), allow_unicode=True, sort_keys=False)
PY
$sw config check "$out/site.yaml"
$sw db upgrade --config "$out/site.yaml"
pass=sitewatch-demo
add() { printf '%s\n' "$pass" | $sw users add "$1" --role "$2" --unit "$3" --config "$out/site.yaml" --password-stdin >/dev/null; }
add operator operator 南屿镇
add inspector inspector 南屿镇/旗山村
add determiner determiner 南屿镇
add rectifier rectifier 南屿镇
add supervisor supervisor 南屿镇
add office accountability 闽侯县
add leader leader 闽侯县

step "4. sitewatch run: API, pages, worker and SQLite in one process (stream time x $speed)"
echo "open http://127.0.0.1:$port/ and sign in as operator, inspector, determiner, rectifier,"
echo "supervisor, office or leader; every demo password is: $pass"
if [ "${DEMO_SERVE:-1}" = "0" ]; then
  timeout 300 $sw run --config "$out/site.yaml" --speed "$speed" --exit-on-case
else
  $sw run --config "$out/site.yaml" --speed "$speed"
fi
