# Tiếng Việt: ngôn ngữ mặc định của nền tảng.
# Mỗi khoá phải có ở cả hai danh mục (vi, en) và được dùng trong mã nguồn.

## Phiếu tự đánh giá

form-title = PHIẾU TỰ ĐÁNH GIÁ CHỈ SỐ CHUYỂN ĐỔI SỐ (DTI)
form-framework = Bộ chỉ số: { $title } ({ $source })
form-round = Kỳ đánh giá: năm { $year }
form-unit = Đơn vị: { $name } (mã { $id })
form-unit-unset = Đơn vị: ghi mã đơn vị ở trang THÔNG TIN CHUNG
form-instructions = Nhập số liệu vào các ô màu vàng; các ô khác bị khoá và không được sửa.
form-general-sheet = THÔNG TIN CHUNG
form-group-sheet = Nhóm { $code }
form-group-heading = Nhóm { $code }: { $name } ({ $points } điểm)
form-col-code = Mã
form-col-content = Nội dung
form-col-points = Điểm tối đa
form-col-type = Kiểu dữ liệu
form-col-value = Giá trị
form-col-not-applicable = Không áp dụng
form-col-evidence = Tài liệu kiểm chứng (số, ký hiệu văn bản)
form-unit-id = Mã đơn vị theo danh mục đơn vị của Thành phố (ví dụ quan-1, so-tttt)
form-type-count = Số nguyên ≥ 0
form-type-money = Số tiền (đồng), số nguyên ≥ 0
form-type-bool = Có / Không
form-type-choice = Chọn một: { $choices }
form-type-decimal = Số thập phân ≥ 0
form-type-text = Văn bản
form-activity-reports = Hoạt động { $n }: số phản ánh của người dân
form-activity-resolved = Hoạt động { $n }: số phản ánh chính xác và được giải quyết
form-activity-count = Số hoạt động (ghi 0 nếu không có)
form-contact-name = Họ tên
form-contact-unit = Đơn vị công tác
form-contact-position = Chức vụ
form-contact-phone = Điện thoại liên hệ
form-contact-email = Thư điện tử
form-yes = Có
form-no = Không
form-input-title = Giá trị
form-input-whole = Nhập một số nguyên ≥ 0.
form-input-decimal = Nhập một số ≥ 0.
form-input-list = Chọn một giá trị trong danh sách.

## Nhập phiếu: mỗi vấn đề nêu trang, ô, chỉ số và biến

import-at-cell = Trang '{ $sheet }', ô { $cell }: { $problem }
import-in-sheet = Trang '{ $sheet }': { $problem }
import-in-workbook = Tệp: { $problem }
import-unreadable = không đọc được tệp .xlsx: { $reason }
import-not-a-form = không phải phiếu DTI: thiếu trang ẩn '{ $sheet }' của phiếu
import-format-version = phiếu theo định dạng { $found }, công cụ này đọc định dạng { $expected }
import-meta-missing = trang ẩn của phiếu thiếu trường '{ $field }'
import-unknown-framework = phiếu dùng bộ chỉ số { $framework }, bộ chỉ số này không có
import-framework-changed = phiếu được tạo từ một phiên bản khác của bộ chỉ số { $framework }; hãy tạo lại phiếu
import-other-framework = phiếu dùng bộ chỉ số { $found }, cần bộ chỉ số { $expected }
import-other-year = phiếu dành cho năm { $found }, cần năm { $expected }
import-extra-sheet = trang '{ $sheet }' không thuộc phiếu; hãy xoá trang này
import-missing-sheet = thiếu trang '{ $sheet }' của phiếu
import-label-edited = nhãn đã bị sửa: cần '{ $expected }', thấy '{ $found }'
import-not-whole = { $subject } phải là số nguyên ≥ 0, thấy '{ $found }'
import-too-large = { $subject } quá lớn để bảng tính giữ chính xác (tối đa { $max }), thấy '{ $found }'
import-not-decimal = { $subject } phải là số ≥ 0 (ví dụ 15.38), thấy '{ $found }'
import-not-bool = { $subject } phải là '{ $yes }' hoặc '{ $no }', thấy '{ $found }'
import-not-choice = { $subject } phải là một trong { $choices }, thấy '{ $found }'
import-not-text = { $subject } phải là văn bản, thấy '{ $found }'
import-incomplete = { $subject } còn trống; hãy điền mọi biến của chỉ số { $indicator } hoặc đánh dấu không áp dụng
import-activity-half = { $subject } còn trống trong khi hoạt động này đã có số liệu khác
import-activity-count = { $subject }: ghi { $declared } hoạt động nhưng điền số liệu cho { $listed } hoạt động đầu tiên liên tiếp; hãy điền đủ các hoạt động từ 1 đến { $declared }
import-not-applicable-with-values = chỉ số { $indicator } được đánh dấu không áp dụng nhưng vẫn có số liệu
import-unit-missing = chưa ghi mã đơn vị
import-unit-invalid = mã đơn vị '{ $found }' không hợp lệ: { $reason }
import-unit-other = phiếu được tạo cho đơn vị { $expected }, thấy '{ $found }'
import-domain = { $subject }: { $message }

## Báo cáo xuất ra

export-ranking-title = BẢNG XẾP HẠNG CHỈ SỐ CHUYỂN ĐỔI SỐ NĂM { $year }
export-ranking-sheet = Xếp hạng
export-scorecard-title = KẾT QUẢ CHẤM ĐIỂM CỦA { $unit } NĂM { $year }
export-scorecard-summary-sheet = Tổng hợp
export-basis = Cơ sở: { $basis }
export-basis-self = số liệu tự đánh giá
export-basis-verified = số liệu đã thẩm định
export-col-rank = Hạng
export-col-unit-id = Mã đơn vị
export-col-unit = Đơn vị
export-col-total = Tổng điểm
export-col-code = Mã chỉ số
export-col-indicator = Chỉ số
export-col-points = Điểm tối đa
export-col-score = Điểm
export-col-explanation = Giải thích
export-group = Nhóm { $code }
export-side-by-side-title = SỐ LIỆU TỰ ĐÁNH GIÁ VÀ SỐ LIỆU THẨM ĐỊNH CỦA { $unit } NĂM { $year }
export-totals = Tổng điểm tự đánh giá { $self }, tổng điểm thẩm định { $verified }, chênh lệch { $difference }
export-col-self-value = Số liệu tự đánh giá
export-col-self-score = Điểm tự đánh giá
export-col-verified-value = Số liệu thẩm định
export-col-verified-score = Điểm thẩm định
export-col-difference = Chênh lệch
export-col-decision = Quyết định
export-col-reason = Lý do
export-publication-title = KẾT QUẢ CÔNG BỐ CHỈ SỐ CHUYỂN ĐỔI SỐ NĂM { $year } (LẦN { $revision })
export-publication-sheet = Công bố
export-publication-reason = Lý do: { $reason }; trạng thái kỳ đánh giá: { $state }
export-national-title = BIỂU MẪU CHỈ SỐ CHUYỂN ĐỔI SỐ CẤP TỈNH (PHỤ LỤC III) NĂM { $year }
export-national-summary = Đủ số liệu: { $complete }; còn thiếu: { $missing }; đang tranh chấp: { $disputed }
export-col-owners = Đơn vị chủ trì
export-col-combine = Cách tổng hợp
export-col-value = Giá trị
export-col-status = Tình trạng
export-col-missing = Đơn vị chưa cung cấp
export-status-complete = đủ
export-status-missing = còn thiếu
export-status-disputed = đang tranh chấp
