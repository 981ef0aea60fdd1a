"""POSTs an oversized body with Python's urllib (which sends the whole body before reading the
answer) and prints, per try, the status and the JSON error body it read, or the error it got.

usage: post_big.py URL TRIES BYTES
"""
import json
import sys
import urllib.error
import urllib.request

url, tries, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
body = b'{"target": "' + b"a" * size + b'"}'
results = []
for _ in range(tries):
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            results.append({"status": answer.status, "body": json.loads(answer.read())})
    except urllib.error.HTTPError as e:
        results.append({"status": e.code, "body": json.loads(e.read())})
    except Exception as e:  # a reset or a broken pipe: what lingering close prevents
        results.append({"status": 0, "error": repr(e)})
print(json.dumps(results))
