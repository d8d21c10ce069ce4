"""Execute notebooks headless with the project's tslab kernel; on a failing cell print its source and error.

tslab reports a failing cell only through the cell's stderr output, so nbconvert's own message says nothing
useful; this runner prints what the kernel printed. Usage: python3 execute_notebooks.py OUT_DIR NB [NB ...]
"""
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def cell_text(cell):
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append("%s: %s\n%s" % (out.get("ename"), out.get("evalue"), "\n".join(out.get("traceback", []))))
    return "".join(parts)


def main():
    out_dir, notebooks = sys.argv[1], sys.argv[2:]
    os.makedirs(out_dir, exist_ok=True)
    failed = 0
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, kernel_name="areyouacat-ts", timeout=600, resources={"metadata": {"path": os.getcwd()}})
        start = time.time()
        try:
            client.execute()
            status = "ok"
        except CellExecutionError:
            status = "FAILED"
            failed += 1
            # The failing cell is the last one that ran.
            ran = [c for c in nb.cells if c.cell_type == "code" and c.get("outputs") is not None and c.get("execution_count")]
            bad = ran[-1] if ran else None
            if bad is not None:
                print("---- failing cell in %s ----\n%s\n---- its output ----\n%s" % (path, bad.source, cell_text(bad)), flush=True)
        except Exception as err:  # kernel died, timeout
            status = "FAILED"
            failed += 1
            print("---- %s: %s: %s" % (path, type(err).__name__, err), flush=True)
        nbformat.write(nb, os.path.join(out_dir, os.path.basename(path)))
        print("%s %s in %.1f s" % (status, path, time.time() - start), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
