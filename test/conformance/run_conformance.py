#!/usr/bin/env python3
"""ONNX Attention conformance: import -> compile for the CPU -> run -> compare.

For every test listed in expected.txt (one line per test: name, expected
status, reason), this imports <data>/<name>/model.onnx with kvfuse-import-onnx,
evaluates the imported IR in float64 with the reference attention
(kvfuse-onnx-refrun) and compares with ONNX's expected outputs, then compiles
the module with kvfuse-compile when that tool exists, runs the artifact on
test_data_set_0 with kvfuse-onnx-run and compares again (rtol 1e-3, atol 1e-5).

Expected statuses:
  pass         import, compile and run must succeed and match.
  unsupported  the importer must reject the model with a clear error
               (the reason says which feature); importing it is a failure
               too, so the list is kept up to date.
  xfail        imports, but compiling or running is known to fail (reason).
               An unexpected pass is reported as XPASS and fails the run.

Without kvfuse-compile only import and reference evaluation are checked and
every `pass` or `xfail` test reports REF-PASS. Every test in the data directory must be
listed: an unlisted test fails the run, so nothing is skipped silently.

Exit status 0 when every test has its expected status, 1 otherwise.
"""

import argparse
import concurrent.futures
import os
import shutil
import subprocess
import sys


def read_expected(path):
    tests = {}
    order = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 2)
            if len(parts) < 2 or parts[1] not in ("pass", "unsupported",
                                                  "xfail"):
                sys.exit("%s:%d: expected '<test> pass|unsupported|xfail "
                         "[reason]'" % (path, lineno))
            if parts[1] != "pass" and len(parts) < 3:
                sys.exit("%s:%d: a non-pass status needs a reason" %
                         (path, lineno))
            tests[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else "")
            order.append(parts[0])
    return tests, order


def list_data(root):
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        if "model.onnx" in filenames:
            found.append(os.path.relpath(dirpath, root))
            dirnames[:] = []
    return sorted(found)


def run(cmd, timeout=300):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout,
                           universal_newlines=True)
        return p.returncode, p.stdout
    except subprocess.TimeoutExpired:
        return 124, "timed out after %d s" % timeout


def first_line(text):
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:300]
    return ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="kvfuse tools directory")
    ap.add_argument("--data", required=True, help="conformance data root")
    ap.add_argument("--expected", required=True, help="expected.txt")
    ap.add_argument("--work", required=True, help="scratch directory")
    ap.add_argument("--filter", default="", help="only tests containing this")
    ap.add_argument("--rtol", default="1e-3")
    ap.add_argument("--atol", default="1e-5")
    args = ap.parse_args()

    importer = os.path.join(args.bin, "kvfuse-import-onnx")
    runner = os.path.join(args.bin, "kvfuse-onnx-run")
    refrun = os.path.join(args.bin, "kvfuse-onnx-refrun")
    compiler = os.path.join(args.bin, "kvfuse-compile")
    have_compiler = os.path.exists(compiler)
    expected, order = read_expected(args.expected)
    present = list_data(args.data)

    failures = []
    counts = {}
    for name in present:
        if name not in expected:
            failures.append(name)
            print("FAIL        %s: not listed in expected.txt" % name)
    def check(name):
        """Runs one test; returns (result, detail, unexpected)."""
        status, reason = expected[name]
        test_dir = os.path.join(args.data, name)
        work = os.path.join(args.work, name.replace("/", "_"))
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        mlir = os.path.join(work, "model.mlir")
        if not os.path.isdir(test_dir):
            return "FAIL", "no test data at " + test_dir, True
        rc, out = run([importer, os.path.join(test_dir, "model.onnx"), "-o",
                       mlir])
        if status == "unsupported":
            if rc == 1 and "error:" in out:
                return ("UNSUPPORTED", reason + " [" + first_line(out) + "]",
                        False)
            return ("FAIL", "expected an import error (%s), got exit %d %s"
                    % (reason, rc, first_line(out)), True)
        if rc != 0:
            return "FAIL", "import failed: " + first_line(out), True
        # What the imported IR means, evaluated in float64 with the reference
        # attention: must match ONNX whatever the back end does.
        rc, out = run([refrun, mlir, test_dir, args.rtol, args.atol])
        if rc != 0:
            return ("FAIL", "reference evaluation of the imported IR (exit "
                    "%d): %s" % (rc, " | ".join(out.strip().splitlines()[-3:])),
                    True)
        if not have_compiler:
            return "REF-PASS", "kvfuse-compile is not built", False
        kvf = os.path.join(work, "model.kvf")
        rc, out = run([compiler, mlir, "-o", kvf])
        stage = "compile"
        if rc == 0:
            stage = "run"
            rc, out = run([runner, kvf, "main", test_dir, args.rtol,
                           args.atol])
        if status == "pass":
            if rc == 0:
                return "PASS", "", False
            return ("FAIL", "%s failed (exit %d): %s" %
                    (stage, rc, " | ".join(out.strip().splitlines()[-3:])),
                    True)
        if rc == 0:
            return "XPASS", "listed as xfail (" + reason + ")", True
        return ("XFAIL", reason + " [%s: %s]" % (stage, first_line(out)),
                False)

    # Tests are independent processes: run them in parallel, report in order.
    selected = [n for n in order if not args.filter or args.filter in n]
    with concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, os.cpu_count() or 1)) as pool:
        results = list(pool.map(check, selected))
    for name, (result, detail, unexpected) in zip(selected, results):
        counts[result] = counts.get(result, 0) + 1
        if unexpected:
            failures.append(name)
        print("%-11s %s%s" % (result, name,
                              (": " + detail) if detail else ""))

    print("\nsummary: " + ", ".join("%s %d" % kv for kv in
                                    sorted(counts.items())) +
          ", unexpected %d" % len(failures))
    if failures:
        print("unexpected results: " + " ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
