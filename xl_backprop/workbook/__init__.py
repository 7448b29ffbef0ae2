"""The workbook template: its layout, its VBA and ribbon sources, and the builder.

``layout`` says where everything lives; ``build.build_template(out)`` writes the
macro-enabled workbook from the text sources kept next to it.
"""
