"""``gn.io``: graph files (JSON, a readable GraphDef) and exports for graph tools.

Example:
    >>> gn.io.write_graph(gn.get_default_graph(), "model.graph.json")
    >>> graph = gn.io.import_graph("model.graph.json")   # in this or another process
    >>> gn.io.write_networkx(graph, "model.graphml")
"""
from graphnn.io.files import GraphFileError
from graphnn.io.graph_file import graph_to_dict, write_graph
from graphnn.io.graph_import import graph_from_dict, import_graph
from graphnn.io.networkx_files import write_networkx

__all__ = ["GraphFileError", "graph_from_dict", "graph_to_dict", "import_graph", "write_graph",
           "write_networkx"]
