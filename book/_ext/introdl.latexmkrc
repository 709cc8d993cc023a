# latexmk settings of the book's PDF, read after the latexmkrc Sphinx writes
# (book/_ext/build.py passes "-r" with this file in LATEXMKOPTS).
#
# Two lines of the .aux change when the table of contents and the index grow,
# from the first pass of a folder to the second, and nothing else of it: the
# absolute page where the arabic page numbers start (hyperref's \HyPL@Entry) and
# the number of pages (\@abspage@last). latexmk reran XeLaTeX a third time for
# them alone. hyperref uses the first for the PDF's page labels, which the
# book's preamble (_config.yml, latex_elements.preamble) writes from the pass
# itself, so a change of these two lines calls for no other pass.
$hash_calc_ignore_pattern{'aux'} = '^\\\\gdef \\\\\@abspage\@last\{|^\\\\HyPL\@Entry\{';
