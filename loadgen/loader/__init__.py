"""lambdascope's loader function: a share of a plan, run on Lambda, its outcomes streamed back.

    bootstrap.py  the runtime: a stdlib Runtime API loop that posts its answer in streaming mode
                  (Lambda's Python runtime cannot stream; a custom runtime can)
    handler.py    the handler: runs one share with loadgen's Runner, yields one record per batch
    record.py     the wire contract between a loader and the monitor: the share it is given,
                  the records it streams back (one JSON line each), the HDR histogram codec

The loader is stdlib plus loadgen's own code (aiohttp and hdrhistogram, which loadgen needs);
it never imports the probe or the UI.
"""
