/* Enhances the episode and transcript pages; everything works without it. Links to this
   page's audio with a media fragment (#t=MM:SS: chapters, highlights, transcript passages)
   seek the page's player instead of opening the audio file; the passage being heard is
   highlighted; the transcript search shows only the passages with the words typed. */
"use strict";
(function () {
  var audio = document.querySelector("audio[data-player]");
  if (!audio) return;
  var source = audio.querySelector("source");
  var media = source ? source.src : audio.src;

  function start(link) {  // seconds from "#t=[[H:]MM:]SS[.mmm][,end]", or NaN
    var found = /#t=([\d:.]+)/.exec(link.getAttribute("href") || "");
    if (!found) return NaN;
    return found[1].split(":").reduce(function (s, part) { return s * 60 + parseFloat(part); }, 0);
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href*='#t=']");
    if (!link || link.href.split("#")[0] !== media) return;
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    audio.currentTime = start(link);
    var playing = audio.play();
    if (playing && playing.catch) playing.catch(function () {});
  });

  var lines = Array.prototype.slice.call(document.querySelectorAll(".transcript p"));
  var starts = lines.map(function (line) { return start(line.querySelector("a")); });
  var current = null;
  audio.addEventListener("timeupdate", function () {
    var low = 0, high = starts.length - 1, found = null;
    while (low <= high) {  // the last passage that starts at or before the playing time
      var mid = (low + high) >> 1;
      if (starts[mid] <= audio.currentTime) { found = lines[mid]; low = mid + 1; } else { high = mid - 1; }
    }
    if (found === current) return;
    if (current) current.classList.remove("current");
    if (found) found.classList.add("current");
    current = found;
  });

  var search = document.getElementById("transcript-search");
  if (!search) return;
  var input = search.querySelector("input");
  var status = search.querySelector("[role=status]");
  search.hidden = false;
  search.addEventListener("submit", function (event) { event.preventDefault(); });
  input.addEventListener("input", function () {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    lines.forEach(function (line) {
      var text = line.textContent.toLowerCase();
      var match = words.every(function (word) { return text.indexOf(word) !== -1; });
      line.hidden = !match;
      if (match) shown += 1;
    });
    status.textContent = words.length ? shown + (shown === 1 ? " line matches" : " lines match") : "";
  });
})();
