"""Bridge to the Python `hdrhistogram` package (HdrHistogram's Python implementation) for Stampede's
interoperability tests. Reads one JSON request on stdin, writes one JSON answer on stdout.

  decode   {"b64": [...], "percentiles": [...]}       -> stats of each decoded histogram
  encode   {"values": [...], "percentiles": [...]}    -> base64 of a histogram of those values + stats
  merge    {"b64": [...], "percentiles": [...]}       -> stats of all the histograms added together
  readlog  {"path": "...", "percentiles": [...]}      -> intervals of an .hlog file and their merged stats
  writelog {"path": "...", "intervals": [[values]]}   -> writes an .hlog with one interval per list
  cumulative {"path": "...", "percentiles": [...]}  -> for each k, the percentiles of the log's first k
                                                       untagged intervals merged (a live verdict's figures)
"""
import json
import math
import sys

from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader, HistogramLogWriter

LOWEST, HIGHEST, DIGITS = 1, 3_600_000_000, 3


def value_at_percentile(h, percentile):
    """HdrHistogram Java's (and hdrhistogram-swift's) rule, which Stampede follows: the highest
    equivalent value of the counter where the cumulative count reaches ceil(p/100 * N). The Python
    package's own get_value_at_percentile rounds p/100 * N half-up instead (as HdrHistogram_c
    does), which differs whenever the fraction is below one half."""
    total = h.get_total_count()
    if total == 0:
        return 0
    p = min(max(math.nextafter(percentile, -math.inf), 0.0), 100.0)
    target = max(1, math.ceil(p / 100.0 * total))
    running = 0
    for index in range(h.counts_len):
        running += h.get_count_at_index(index)
        if running >= target:
            value = h.get_value_from_index(index)
            return h.get_highest_equivalent_value(value) if percentile > 0 else h.get_lowest_equivalent_value(value)
    return 0


def stats(h, percentiles):
    return {
        "total": h.get_total_count(),
        "min": h.get_min_value(),
        "max": h.get_max_value(),
        "mean": h.get_mean_value(),
        "stddev": h.get_stddev(),
        "values": [value_at_percentile(h, p) for p in percentiles],
        "native_values": [h.get_value_at_percentile(p) for p in percentiles],
    }


def main():
    mode = sys.argv[1]
    req = json.load(sys.stdin)
    ps = req.get("percentiles", [])
    if mode == "decode":
        out = [stats(HdrHistogram.decode(b), ps) for b in req["b64"]]
    elif mode == "encode":
        h = HdrHistogram(LOWEST, HIGHEST, DIGITS)
        for v in req["values"]:
            h.record_value(v)
        out = {"b64": h.encode().decode("ascii"), **stats(h, ps)}
    elif mode == "merge":
        merged = HdrHistogram(LOWEST, HIGHEST, DIGITS)
        for b in req["b64"]:
            merged.decode_and_add(b)
        out = stats(merged, ps)
    elif mode == "readlog":
        reader = HistogramLogReader(req["path"], HdrHistogram(LOWEST, HIGHEST, DIGITS))
        merged = HdrHistogram(LOWEST, HIGHEST, DIGITS)
        intervals = []
        tags = {}
        while True:
            h = reader.get_next_interval_histogram()
            if h is None:
                break
            if h.get_tag():
                # A tagged line (one name of a request mix): counted per tag, not in the total.
                tags[h.get_tag()] = tags.get(h.get_tag(), 0) + h.get_total_count()
                continue
            intervals.append(h.get_total_count())
            merged.add(h)
        out = {"intervals": intervals, "tags": tags, **stats(merged, ps)}
    elif mode == "cumulative":
        reader = HistogramLogReader(req["path"], HdrHistogram(LOWEST, HIGHEST, DIGITS))
        merged = HdrHistogram(LOWEST, HIGHEST, DIGITS)
        out = []
        while True:
            h = reader.get_next_interval_histogram()
            if h is None:
                break
            if h.get_tag():
                continue
            merged.add(h)
            out.append([value_at_percentile(merged, p) for p in ps])
    elif mode == "writelog":
        with open(req["path"], "w") as f:
            writer = HistogramLogWriter(f)
            writer.output_log_format_version()
            writer.output_legend()
            for i, values in enumerate(req["intervals"]):
                h = HdrHistogram(LOWEST, HIGHEST, DIGITS)
                for v in values:
                    h.record_value(v)
                h.set_start_time_stamp(1_700_000_000_000 + i * 1000)
                h.set_end_time_stamp(1_700_000_000_000 + (i + 1) * 1000)
                writer.output_interval_histogram(h)
        out = {"ok": True}
    else:
        sys.exit("unknown mode " + mode)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
