"""Getting data in and out the way schools keep it: CSV, Excel workbooks, Word tables, Markdown."""
