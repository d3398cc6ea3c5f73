"""LMOS Studio: design, check, route and export networks of Eclipse LMOS agents."""

from lmos_studio.errors import LmosStudioError

__all__ = ["LmosStudioError"]
__version__ = "0.1.0"
