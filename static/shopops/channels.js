/* The "record a communication" form: the channel list offers only the channels of the chosen
 * counterparty (a buyer is not reached on 1688 Wangwang). Each option names whom it reaches in
 * data-counterparties (orders.forms.ChannelSelect). Without JavaScript every channel is listed
 * and the server refuses a wrong pair. No inline script: the page's CSP allows none. */
(function () {
  "use strict";

  var counterparty = document.getElementById("id_counterparty");
  var channel = document.getElementById("id_channel");
  if (!counterparty || !channel) {
    return;
  }

  function offer() {
    var who = counterparty.value;
    var first = null;
    Array.prototype.forEach.call(channel.options, function (option) {
      var fits = (option.dataset.counterparties || "").split(" ").indexOf(who) !== -1;
      option.hidden = !fits;
      option.disabled = !fits;
      if (fits && first === null) {
        first = option;
      }
    });
    var chosen = channel.options[channel.selectedIndex];
    if ((!chosen || chosen.disabled) && first !== null) {
      channel.value = first.value;
    }
  }

  counterparty.addEventListener("change", offer);
  offer();
})();
