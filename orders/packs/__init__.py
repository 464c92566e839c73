"""Evidence packs for the platforms: a ZIP to upload to an AliExpress dispute or a 1688 refund
request (docs/evidence-pack.md).

``limits`` (what each target takes, from settings), ``images`` (attachments converted and scaled
with Pillow), ``summary`` (``summary.pdf`` with fpdf2), ``builder`` (which files go in, the ZIP and
its manifest, the history event), ``store`` (packs built in the background), ``jobs`` (the
background build that ``orders.tasks.build_evidence_pack`` runs).
"""
