// The evidence pack's progress page: polls the job until the ZIP is ready or the build failed.
// A static file (no inline script: the Content-Security-Policy allows only our own files).
(function () {
  "use strict";
  function start() {
    const stateLine = document.getElementById("pack-state");
    if (!stateLine) return;
    const pollUrl = stateLine.dataset.pollUrl;
    const labels = {
      done: stateLine.dataset.labelDone,
      failed: stateLine.dataset.labelFailed,
      building: stateLine.dataset.labelBuilding,
    };
    function poll() {
      fetch(pollUrl, {credentials: "same-origin"}).then((r) => r.json()).then((job) => {
        const bar = document.getElementById("pack-progress");
        bar.max = job.total || 1;
        bar.value = job.done;
        document.getElementById("pack-count").textContent = job.done + " / " + job.total;
        stateLine.dataset.state = job.state;
        if (job.state === "done") {
          stateLine.textContent = labels.done;
          const link = document.getElementById("pack-download");
          link.href = job.download;
          link.hidden = false;
        } else if (job.state === "failed") {
          stateLine.textContent = labels.failed + " " + job.error;
        } else {
          stateLine.textContent = labels.building;
          setTimeout(poll, 1000);
        }
      }).catch(() => setTimeout(poll, 3000));
    }
    if (!["done", "failed"].includes(stateLine.dataset.state)) setTimeout(poll, 500);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
