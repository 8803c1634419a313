"""The mesh methods' options are core :class:`~orfeas_nb.options.Option` values (the pipeline declares its own)."""

from ..options import Option, parse_option_text, parse_option_texts, resolve_options

__all__ = ["Option", "parse_option_text", "parse_option_texts", "resolve_options"]
