"""Errors the worker reports. Each message names what was wrong and what to do about it."""


class RenderError(Exception):
    """Base class: a render could not be produced."""


class InputError(RenderError):
    """The model file itself is unusable (retrying cannot help)."""


class DeviceUnavailable(RenderError):
    """The requested Cycles device type has no usable device on this machine."""


class RenderCrashed(RenderError):
    """The Blender child process died while rendering; it is restarted for the next job."""


class RenderTimeout(RenderCrashed):
    """The render exceeded its time limit; the child process was killed and is restarted."""
