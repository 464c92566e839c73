"""Evidence packs for the platforms: a ZIP to upload to an AliExpress dispute or a 1688 refund
request, each telling its reader only what that reader may know (docs/evidence-pack.md).

``limits`` (what each target takes, from settings), ``audience`` (what each reader may see: a
whitelist), ``case`` (the case as that reader reads it, every value written out), ``images``
(attachments converted and scaled with Pillow), ``summary`` (the summary PDF with fpdf2),
``pages`` (its pages drawn as images for a target that takes images only), ``builder`` (which
files go in, the ZIP and its manifest, the history event), ``store`` (packs built in the
background), ``jobs`` (the background build that ``orders.tasks.build_evidence_pack`` runs).
"""
