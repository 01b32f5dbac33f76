"""initlab.report: every renderer (tables, figures, HTML) of what the layers below return.

Importing it registers the views of the library's results in :mod:`initlab.views` (the tables
of the plan, the LSUV report, the μP table and the diagnosis, the diagnosis figure and HTML
page); ``import initlab`` does. The lab's renderers (``report.demo``,
``report.compare_figures``) are imported where used, so this package does not load the lab.
"""

from initlab.report import doctor_figures, doctor_table, html, model_tables, plan_table

__all__ = ["doctor_figures", "doctor_table", "html", "model_tables", "plan_table"]
