"""Routing: which agent and capability of a channel answers a query (one Router protocol, many routers)."""
